/**
 * What a user does in the cabinet, done the way a user does it: clicks and typing in the app frame,
 * then waiting for the page to show the result. Each step fails (times out) if the app does not get
 * there, so a journey built from them fails when the app breaks.
 */
import type { Frame, Locator } from 'playwright-core';
import { translator, type Translate } from '../../views/i18n.ts';
import { appSteady } from './portal-session.ts';

export interface StepOptions {
  /** How long a step may take to show its result, ms. */
  timeout: number;
  /** The UI's language: buttons are found by their text in it (English when left out). */
  t?: Translate;
}

const english = translator('en');
const tr = (opts: StepOptions) => opts.t ?? english;

/**
 * Click-to-visible-result times of every step, for the report (never asserted: a busy CI machine
 * says nothing about the app). `measure` starts the clock just before the click.
 */
export const timings: { step: string; ms: number }[] = [];
async function measure<T>(frame: Frame, step: string, click: () => Promise<unknown>, result: () => Promise<T>): Promise<T> {
  await appSteady(frame);
  const started = performance.now();
  await click();
  const value = await result();
  timings.push({ step, ms: Math.round(performance.now() - started) });
  return value;
}

/** Opens a row's action menu ("⋯") and returns its item named `label`, ready to click. */
export async function rowMenuItem(row: Locator, label: string): Promise<Locator> {
  const menu = row.locator('details.row-menu');
  const frame = (await (await menu.elementHandle())!.ownerFrame())!;
  if (!(await menu.evaluate((d) => (d as HTMLDetailsElement).open))) {
    await appSteady(frame);
    await menu.locator('summary').click();
  }
  await appSteady(frame);
  return menu.getByRole('button', { name: label, exact: true });
}

const rowOf = (frame: Frame, name: string) => frame.locator('#item-list .item-row', { has: frame.locator('.item-row__name', { hasText: name }) });

export async function createItem(frame: Frame, name: string, opts: StepOptions & { startsAt?: string }): Promise<void> {
  await openCreateDialog(frame, opts);
  await submitCreateForm(frame, name, opts);
}

/** Fills the open create dialog, submits it, and waits for the row and the dialog to close. */
export async function submitCreateForm(frame: Frame, name: string, opts: StepOptions & { startsAt?: string }): Promise<void> {
  const { timeout } = opts;
  await frame.locator('#new-name').fill(name);
  await frame.locator('#new-notes').fill(`Notes for ${name}`);
  if (opts.startsAt) await frame.locator('#new-starts_at').fill(opts.startsAt);
  await measure(
    frame,
    'create',
    () => frame.locator('#dialog').getByRole('button', { name: tr(opts)('create'), exact: true }).click(),
    () => rowOf(frame, name).waitFor({ timeout }),
  );
  await frame.waitForFunction(() => !(document.getElementById('dialog') as HTMLDialogElement).open, undefined, { timeout });
}

/** Opens the dialog and waits, as a person would, until the name field has the focus (htmx moves it there after settling). */
export async function openCreateDialog(frame: Frame, opts: StepOptions): Promise<void> {
  const { timeout } = opts;
  await measure(
    frame,
    'open the create dialog',
    () => frame.locator('.topbar').getByRole('button', { name: tr(opts)('newItem'), exact: true }).click(),
    () => frame.locator('#dialog[open] #new-name').waitFor({ timeout }),
  );
  await frame.waitForFunction(() => document.activeElement?.id === 'new-name', undefined, { timeout });
}

export async function closeDialog(frame: Frame, opts: StepOptions): Promise<void> {
  await appSteady(frame);
  await frame.locator('#dialog').getByRole('button', { name: tr(opts)('cancel'), exact: true }).click();
  await frame.waitForFunction(() => !(document.getElementById('dialog') as HTMLDialogElement).open, undefined, { timeout: opts.timeout });
}

export async function renameItem(frame: Frame, from: string, to: string, opts: StepOptions): Promise<void> {
  const { timeout } = opts;
  const t = tr(opts);
  const form = frame.locator('#item-list .item-row--editing form');
  await measure(frame, 'open the inline edit', () => rowOf(frame, from).getByRole('button', { name: t('edit'), exact: true }).click(), () => form.waitFor({ timeout }));
  await form.locator('input[name="name"]').fill(to);
  await measure(
    frame,
    'save',
    () => form.getByRole('button', { name: t('save'), exact: true }).click(),
    () => rowOf(frame, to).getByRole('button', { name: t('edit'), exact: true }).waitFor({ timeout }),
  );
}

export async function archiveItem(frame: Frame, name: string, opts: StepOptions): Promise<void> {
  await measure(
    frame,
    'archive',
    async () => (await rowMenuItem(rowOf(frame, name), tr(opts)('archive'))).click(),
    () => frame.locator('#item-list .item-row--archived', { hasText: name }).waitFor({ timeout: opts.timeout }),
  );
}

export async function restoreItem(frame: Frame, name: string, opts: StepOptions): Promise<void> {
  await measure(
    frame,
    'restore',
    async () => (await rowMenuItem(rowOf(frame, name), tr(opts)('restore'))).click(),
    () => frame.locator('#item-list .item-row--active', { hasText: name }).waitFor({ timeout: opts.timeout }),
  );
}

/** Adds the item (it has a start) to the Bitrix24 calendar from its row menu; waits for the badge that links to the event. */
export async function addToCalendar(frame: Frame, name: string, opts: StepOptions): Promise<Locator> {
  const t = tr(opts);
  const link = rowOf(frame, name).getByRole('link', { name: t('calendarOpenLabel', { state: t('inCalendar') }), exact: true });
  await measure(
    frame,
    'add to calendar',
    async () => (await rowMenuItem(rowOf(frame, name), t('addToCalendar'))).click(),
    () => link.waitFor({ timeout: opts.timeout }),
  );
  return link;
}

/** Deletes after accepting the confirmation (hx-confirm uses window.confirm); returns the confirmation's text. */
export async function deleteItem(frame: Frame, name: string, opts: StepOptions): Promise<string> {
  let asked = '';
  frame.page().once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await measure(
    frame,
    'delete',
    async () => (await rowMenuItem(rowOf(frame, name), tr(opts)('delete'))).click(),
    () => rowOf(frame, name).waitFor({ state: 'detached', timeout: opts.timeout }),
  );
  return asked;
}

/**
 * Types into the search box and waits for the search's answer and until the list shows exactly
 * `expected` (by name, any order). Waiting for the answer matters when the list already looks right
 * (no rows before a search for nothing): the debounced request would otherwise land on a later step.
 */
export async function search(frame: Frame, q: string, expected: string[], { timeout }: StepOptions): Promise<void> {
  const answered = frame.page().waitForResponse((r) => {
    const url = new URL(r.url());
    return url.pathname.endsWith('/ui/items') && !url.searchParams.has('cursor') && (url.searchParams.get('q') ?? '') === q;
  }, { timeout });
  await measure(
    frame,
    'search',
    () => frame.locator('#q').fill(q),
    () =>
      answered.then(() => frame.waitForFunction(
        (want) => {
          const names = [...document.querySelectorAll('#item-list .item-row__name')].map((n) => n.textContent?.trim() ?? '');
          return names.length === want.length && want.every((w) => names.includes(w));
        },
        expected,
        { timeout },
      )),
  );
}

export const itemNames = (frame: Frame) => frame.locator('#item-list .item-row__name').allTextContents().then((a) => a.map((s) => s.trim()));
export const errorToasts = (frame: Frame) => frame.locator('#toasts .toast--error').allTextContents();
export const greeting = (frame: Frame) => frame.locator('.topbar__greeting').textContent().then((s) => s?.trim() ?? '');

/** Records every toast the frame shows (they vanish after a few seconds), to assert on later. */
export async function watchToasts(frame: Frame): Promise<void> {
  await frame.evaluate(() => {
    const w = window as any;
    if (w.__toasts) return;
    w.__toasts = [];
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) if (n instanceof HTMLElement) w.__toasts.push(`${n.className}: ${n.textContent}`);
    }).observe(document.getElementById('toasts')!, { childList: true });
  });
}
export const seenToasts = (frame: Frame): Promise<string[]> => frame.evaluate(() => (window as any).__toasts ?? []);
