/**
 * What a user does in the cabinet, done the way a user does it: clicks and typing in the app frame,
 * then waiting for the page to show the result. Each step fails (times out) if the app does not get
 * there, so a journey built from them fails when the app breaks.
 */
import type { Frame } from 'playwright-core';

export interface StepOptions {
  /** How long a step may take to show its result, ms. */
  timeout: number;
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
  await frame.locator('#dialog').getByRole('button', { name: 'Create' }).click();
  await rowOf(frame, name).waitFor({ timeout });
  await frame.waitForFunction(() => !(document.getElementById('dialog') as HTMLDialogElement).open, undefined, { timeout });
}

/** Opens the dialog and waits, as a person would, until the name field has the focus (htmx moves it there after settling). */
export async function openCreateDialog(frame: Frame, { timeout }: StepOptions): Promise<void> {
  await frame.getByRole('button', { name: 'New item' }).click();
  await frame.locator('#dialog[open] #new-name').waitFor({ timeout });
  await frame.waitForFunction(() => document.activeElement?.id === 'new-name', undefined, { timeout });
}

export async function closeDialog(frame: Frame, { timeout }: StepOptions): Promise<void> {
  await frame.locator('#dialog').getByRole('button', { name: 'Cancel' }).click();
  await frame.waitForFunction(() => !(document.getElementById('dialog') as HTMLDialogElement).open, undefined, { timeout });
}

export async function renameItem(frame: Frame, from: string, to: string, { timeout }: StepOptions): Promise<void> {
  await rowOf(frame, from).getByRole('button', { name: 'Edit' }).click();
  const form = frame.locator('#item-list .item-row--editing form');
  await form.waitFor({ timeout });
  await form.locator('input[name="name"]').fill(to);
  await form.getByRole('button', { name: 'Save' }).click();
  await rowOf(frame, to).locator('button', { hasText: 'Edit' }).waitFor({ timeout });
}

export async function archiveItem(frame: Frame, name: string, { timeout }: StepOptions): Promise<void> {
  await rowOf(frame, name).getByRole('button', { name: 'Archive' }).click();
  await frame.locator('#item-list .item-row--archived', { hasText: name }).waitFor({ timeout });
}

export async function restoreItem(frame: Frame, name: string, { timeout }: StepOptions): Promise<void> {
  await rowOf(frame, name).getByRole('button', { name: 'Restore' }).click();
  await frame.locator('#item-list .item-row--active', { hasText: name }).waitFor({ timeout });
}

/** Deletes after accepting the confirmation (hx-confirm uses window.confirm). */
export async function deleteItem(frame: Frame, name: string, { timeout }: StepOptions): Promise<void> {
  frame.page().once('dialog', (d) => void d.accept());
  await rowOf(frame, name).getByRole('button', { name: 'Delete' }).click();
  await rowOf(frame, name).waitFor({ state: 'detached', timeout });
}

/** Types into the search box and waits until the list shows exactly `expected` (by name, any order). */
export async function search(frame: Frame, q: string, expected: string[], { timeout }: StepOptions): Promise<void> {
  await frame.locator('#q').fill(q);
  await frame.waitForFunction(
    (want) => {
      const names = [...document.querySelectorAll('#item-list .item-row__name')].map((n) => n.textContent?.trim() ?? '');
      return names.length === want.length && want.every((w) => names.includes(w));
    },
    expected,
    { timeout },
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
