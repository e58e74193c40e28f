/**
 * Fidelity against a client nobody here wrote: the official @bitrix24/b24jssdk, server side (B24OAuth),
 * pointed at a portal's plain-http client endpoint (bx24-frame-protocol.md §8, workaround c).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { B24OAuth, EnumAppStatus } from '@bitrix24/b24jssdk';
import type { EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

let bed: TestBed;
let portal: EmulatedPortal;

beforeAll(async () => {
  bed = await startTestBed({ burst: 10_000 });
  portal = await bed.emu.createPortal({ users: 130 });
  await bed.emu.install(portal.member_id);
});
afterAll(() => bed.stop());

async function createClient(userId = 1) {
  const launch = await bed.emu.launch(portal.member_id, userId);
  const refreshed: string[] = [];
  const b24 = new B24OAuth(
    {
      applicationToken: launch.form.APPLICATION_TOKEN ?? '',
      userId,
      memberId: portal.member_id,
      accessToken: launch.form.AUTH_ID ?? '',
      refreshToken: launch.form.REFRESH_ID ?? '',
      expires: Math.floor(Date.now() / 1000) + 3600,
      expiresIn: 3600,
      scope: launch.form.APPLICATION_SCOPE ?? '',
      domain: portal.domain,
      clientEndpoint: portal.client_endpoint,
      serverEndpoint: launch.form.SERVER_ENDPOINT ?? '',
      status: EnumAppStatus.Free,
    },
    { clientId: bed.clientId, clientSecret: bed.clientSecret },
  );
  b24.offClientSideWarning();
  b24.setCallbackRefreshAuth(async ({ authData }) => {
    refreshed.push(String(authData.access_token));
  });
  return { b24, launch, refreshed };
}

describe('@bitrix24/b24jssdk B24OAuth against the emulator', () => {
  it('calls user.current', async () => {
    const { b24 } = await createClient(2);
    const res = await b24.actions.v2.call.make({ method: 'user.current', params: {} });
    expect(res.isSuccess).toBe(true);
    expect((res.getData() as any).result).toMatchObject({ ID: '2', NAME: 'Иван' });
  });

  it('runs a batch with named calls and a failing one', async () => {
    const { b24 } = await createClient();
    const res = await b24.actions.v2.batch.make({
      calls: { me: ['user.current', {}], admin: { method: 'user.admin', params: {} }, bad: ['no.such.method', {}] },
      options: { isHaltOnError: false, returnAjaxResult: true },
    });
    const data = res.getData() as Record<string, any>;
    expect(data.me.getData().result.ID).toBe('1');
    expect(data.admin.getData().result).toBe(true);
    expect(data.bad.isSuccess).toBe(false);
  });

  it('pages user.get with callList (start=-1, >ID)', async () => {
    const { b24 } = await createClient();
    const res = await b24.actions.v2.callList.make({ method: 'user.get', params: {} });
    expect(res.isSuccess).toBe(true);
    expect((res.getData() as unknown[]).length).toBe(130);
  });

  it('refreshes on 401 expired_token through /oauth/token/ and retries', async () => {
    const { b24, refreshed, launch } = await createClient(3);
    const before = (await bed.emu.stats(portal.member_id)).refreshes ?? 0;
    await bed.emu.expireTokens({ access_token: launch.form.AUTH_ID });
    const res = await b24.actions.v2.call.make({ method: 'profile', params: {} });
    expect(res.isSuccess).toBe(true);
    expect((res.getData() as any).result).toMatchObject({ ID: '3', ADMIN: false });
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]).not.toBe(launch.form.AUTH_ID);
    expect((await bed.emu.stats(portal.member_id)).refreshes).toBe(before + 1);
  });

  it('initIsAdmin reads profile.ADMIN', async () => {
    const { b24 } = await createClient(1);
    await b24.initIsAdmin();
    expect(b24.auth.isAdmin).toBe(true);
  });
});
