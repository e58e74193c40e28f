/** Typed helpers over the emulator's control API (contract paths), for tests. */
export interface EmulatedPortal {
  member_id: string;
  domain: string;
  portal_url: string;
  client_endpoint: string;
}

export interface InstallResult {
  /** 'installed', or 'added' when the installer page did not answer 2xx. */
  app_status: string;
  application_token: string;
  /** The installer page's status (installer apps), or null for API-only apps. */
  installer_status?: number;
  /** ONAPPINSTALL's delivery status (API-only apps), else null. */
  event_status: number | null;
  /** The installer launch the emulator posted (installer apps), or a launch after the install. */
  launch: LaunchParams;
}

export interface LaunchParams {
  url: string;
  query: Record<string, string>;
  form: Record<string, string>;
}

async function post<T>(url: string, body: unknown = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url} -> ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export function emulatorClient(origin: string) {
  return {
    origin,
    createPortal: (body: { users?: number; lang?: string; api_only?: boolean } = {}) => post<EmulatedPortal>(`${origin}/_emulator/portals`, body),
    install: (memberId: string, body: { client_id?: string } = {}) => post<InstallResult>(`${origin}/_emulator/portals/${memberId}/install`, body),
    uninstall: (memberId: string, clean: boolean) => post<{ app_status: string }>(`${origin}/_emulator/portals/${memberId}/uninstall`, { clean }),
    launch: (memberId: string, userId = 1, extra: { client_id?: string; placement?: string } = {}) =>
      post<LaunchParams>(`${origin}/_emulator/portals/${memberId}/launch`, { user_id: userId, ...extra }),
    registerApp: (body: { client_id: string; client_secret: string; app_url: string }) => post(`${origin}/_emulator/apps`, body),
    expireTokens: (body: { member_id?: string } = {}) => post<{ expired: number }>(`${origin}/_emulator/tokens/expire`, body),
    stats: async () => (await (await fetch(`${origin}/_emulator/stats`)).json()) as Record<string, number>,
  };
}

export type EmulatorClient = ReturnType<typeof emulatorClient>;
