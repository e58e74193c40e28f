import { afterAll, describe, expect, it } from 'bun:test';
import { createTokenCipher } from '../../src/auth/secrets.ts';
import { openSqliteStore } from '../../src/store/sqlite/open-store.ts';
import { TEST_APP_SECRET } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

const dir = tempDir();
afterAll(() => dir.cleanup());

describe('oauth states (created by anonymous requests)', () => {
  it('are bounded: expired ones are swept on create, and beyond the cap nothing is stored', async () => {
    const store = await openSqliteStore(dir.file('states.db'), { cipher: createTokenCipher(TEST_APP_SECRET) });
    const count = () => (store.db.query('SELECT count(*) AS n FROM oauth_states').get() as { n: number }).n;
    for (let i = 0; i < 3; i++) expect(await store.oauthStates.create(`old-${i}`, 'a.bitrix24.ru', 100, 0, 3)).toBe(true);
    expect(await store.oauthStates.create('refused', 'a.bitrix24.ru', 200, 0, 3)).toBe(false);
    expect(count()).toBe(3);
    // Ten minutes later the old ones have expired: the sweep makes room.
    expect(await store.oauthStates.create('fresh', 'a.bitrix24.ru', 800, 200, 3)).toBe(true);
    expect(count()).toBe(1);
    expect(await store.oauthStates.consume('fresh', 200)).toEqual({ domain: 'a.bitrix24.ru' });
    expect(await store.oauthStates.consume('fresh', 200)).toBeNull();
    await store.close();
  });
});
