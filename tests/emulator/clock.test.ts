/**
 * The emulator's clock (`/_emulator/clock`) and what ages by it: access tokens (1 h), authorization
 * codes (30 s), refresh tokens (180 days unless used, configurable), and the dates the portal hands out.
 * One emulator per file: moving its clock moves it for every test here, so each test takes fresh tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { EmulatorControlError, rest, type EmulatedPortal } from '../support/emulator-client.ts';
import { startTestBed, type TestBed } from '../support/test-bed.ts';

const DAY = 86_400;

let bed: TestBed;
let portal: EmulatedPortal;

beforeAll(async () => {
  bed = await startTestBed();
  portal = await bed.emu.createPortal();
  await bed.emu.install(portal.member_id);
});
afterAll(() => bed.stop());

async function token(params: Record<string, string>) {
  const res = await fetch(`${bed.emulator.url}/oauth/token/?${new URLSearchParams({ client_id: bed.clientId, client_secret: bed.clientSecret, ...params })}`);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const refresh = (refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken });

async function freshPair() {
  const { form } = await bed.emu.launch(portal.member_id);
  return { access: form.AUTH_ID ?? '', refresh: form.REFRESH_ID ?? '' };
}

describe('GET and POST /_emulator/clock', () => {
  it('answers the emulator time and offset, and moves forward by advance_s', async () => {
    const before = await bed.emu.clock();
    expect(Math.abs(before.now - (Math.floor(Date.now() / 1000) + before.offset_s))).toBeLessThanOrEqual(2);
    const after = await bed.emu.clock(3 * DAY);
    expect(after.offset_s).toBe(before.offset_s + 3 * DAY);
    expect(after.now - before.now).toBeGreaterThanOrEqual(3 * DAY);
    expect(after.now - before.now).toBeLessThan(3 * DAY + 5);
    expect(await bed.emu.clock(0)).toMatchObject({ offset_s: after.offset_s });
  });

  it('refuses a negative, fractional or oversized advance with 400 and leaves the clock alone', async () => {
    const { offset_s } = await bed.emu.clock();
    for (const bad of [-1, 1.5, 20 * 36_525 * 864 + 1, 'soon']) {
      const refused = await bed.emu.clock(bad as number).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EmulatorControlError);
      expect(refused).toMatchObject({ status: 400, body: { error: expect.any(String) } });
    }
    expect((await bed.emu.clock()).offset_s).toBe(offset_s);
  });
});

describe('tokens and codes expire by the clock', () => {
  it('an access token works until its hour has passed on the clock, then answers expired_token', async () => {
    const { access } = await freshPair();
    await bed.emu.clock(3500);
    expect((await rest(portal.client_endpoint, 'user.current', {}, access)).status).toBe(200);
    await bed.emu.clock(101);
    const expired = await rest(portal.client_endpoint, 'user.current', {}, access);
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe('expired_token');
  });

  it('an authorization code is refused once 30 s have passed on the clock', async () => {
    const authorize = async () => {
      const res = await fetch(`${portal.portal_url}oauth/authorize/?client_id=${bed.clientId}&state=s`, { redirect: 'manual' });
      return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    };
    const late = await authorize();
    await bed.emu.clock(31);
    expect(await token({ grant_type: 'authorization_code', code: late })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const prompt = await authorize();
    expect((await token({ grant_type: 'authorization_code', code: prompt })).status).toBe(200);
  });

  it('a refresh token left unused for 180 days is refused with invalid_grant', async () => {
    const { refresh: unused } = await freshPair();
    const { refresh: stillYoung } = await freshPair();
    await bed.emu.clock(180 * DAY - 60);
    expect((await refresh(stillYoung)).status).toBe(200);
    await bed.emu.clock(61);
    const dead = await refresh(unused);
    expect(dead).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: expect.any(String) } });
  });

  it('a refresh token used in time rotates to a pair with a fresh lifetime, which outlives the first one', async () => {
    const { refresh: first } = await freshPair();
    await bed.emu.clock(170 * DAY);
    const renewed = await refresh(first);
    expect(renewed.status).toBe(200);
    await bed.emu.clock(170 * DAY);
    const again = await refresh(renewed.body.refresh_token);
    expect(again.status).toBe(200);
    expect((await rest(portal.client_endpoint, 'user.current', {}, again.body.access_token)).status).toBe(200);
    expect(again.body.expires).toBeGreaterThan((await bed.emu.clock()).now + 3500);
  });
});

describe('dates come from the clock', () => {
  it('token expiry, the time block and event ts are a year ahead once the clock is', async () => {
    await bed.emu.clock(365 * DAY);
    const { now } = await bed.emu.clock();
    const renewed = await refresh((await freshPair()).refresh);
    expect(Math.abs(renewed.body.expires - (now + 3600))).toBeLessThanOrEqual(5);
    const access = renewed.body.access_token;
    const call = await rest(portal.client_endpoint, 'user.current', {}, access);
    expect(Math.abs(call.body.time.start - now)).toBeLessThanOrEqual(5);
    expect(call.body.time.date_start.slice(0, 10)).toBe(new Date(now * 1000).toISOString().slice(0, 10));
    // operating_reset_at models a rate and stays in real time, so an app can wait for it.
    expect(Math.abs(call.body.time.operating_reset_at - (Date.now() / 1000 + 600))).toBeLessThanOrEqual(5);
    await rest(portal.client_endpoint, 'event.bind', { event: 'ONAPPTEST', handler: `${bed.app.url}/clock-events` }, access);
    await rest(portal.client_endpoint, 'event.test', {}, access);
    const [event] = await bed.app.waitFor((c) => c.path === '/clock-events');
    expect(Math.abs(Number(event?.form.get('ts')) - now)).toBeLessThanOrEqual(5);
  });
});

describe('refreshTokenLifetimeDays', () => {
  it('sets how long an unused refresh token lives (here the older 28 days)', async () => {
    const short = await startTestBed({ refreshTokenLifetimeDays: 28 });
    try {
      const p = await short.emu.createPortal();
      await short.emu.install(p.member_id);
      const pair = async () => (await short.emu.launch(p.member_id)).form.REFRESH_ID ?? '';
      const [dies, lives] = [await pair(), await pair()];
      await short.emu.clock(28 * DAY - 60);
      const grant = (refreshToken: string) =>
        fetch(`${short.emulator.url}/oauth/token/?${new URLSearchParams({ grant_type: 'refresh_token', client_id: short.clientId, client_secret: short.clientSecret, refresh_token: refreshToken })}`);
      expect((await grant(lives)).status).toBe(200);
      await short.emu.clock(61);
      const refused = await grant(dies);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toBe('invalid_grant');
    } finally {
      await short.stop();
    }
  });
});
