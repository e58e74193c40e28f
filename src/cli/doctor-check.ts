/** What every `b24app doctor` check returns (src/cli/doctor.ts prints them). */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  status: CheckStatus;
  /** What was checked: a fixed name, so the column lines up (a portal's domain starts the detail). */
  name: string;
  /** Why, in one line, with no secret in it. */
  detail: string;
}

/** How doctor reaches the network (tests bring their own). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/** An error's message in one bounded line: what a check reports instead of a stack. */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
}

/** The check's result, or its `fail` with a one-line reason when it threw: never a stack, and the rest still run. */
export async function guarded(name: string, check: () => CheckResult | Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (e) {
    return { status: 'fail', name, detail: `the check itself failed: ${oneLine(e)}` };
  }
}
