/**
 * The dictionaries stay complete: every key in both languages, no empty text, the same placeholders,
 * and the translator's typography (plural forms, quotes inside quotes).
 */
import { describe, expect, it } from 'bun:test';
import { allDictionaries, PLURAL_FORMS, translator } from '../../views/i18n.ts';
import { fieldMessage } from '../../views/view-model.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dictionaries', () => {
  const { en, ru } = allDictionaries;
  it('have the same keys in English and Russian', () => {
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
  });

  for (const [lang, dict] of Object.entries(allDictionaries)) {
    it(`${lang}: no empty or untrimmed text`, () => {
      const bad = Object.entries(dict).filter(([, text]) => !text.trim() || text !== text.trim());
      expect(bad).toEqual([]);
    });
  }

  it('use the same placeholders in both languages', () => {
    const differ = Object.keys(en).filter((k) => placeholders(en[k as keyof typeof en]).join() !== placeholders(ru[k as keyof typeof ru]).join());
    expect(differ).toEqual([]);
  });

  it('give every plural key all four forms', () => {
    const bases = new Set(Object.keys(en).filter((k) => /_(one|few|many|other)$/.test(k)).map((k) => k.replace(/_[a-z]+$/, '')));
    expect(bases.size).toBeGreaterThan(0);
    for (const base of bases) for (const form of PLURAL_FORMS) expect(Object.keys(en)).toContain(`${base}_${form}`);
  });

  it('Russian text is Russian: no value is left the same as the English one (except names and symbols)', () => {
    const same = Object.keys(en).filter((k) => en[k as keyof typeof en] === ru[k as keyof typeof ru] && /[a-z]{3}/i.test(en[k as keyof typeof en]));
    expect(same).toEqual([]);
  });
});

describe('translator', () => {
  it('picks Russian plural forms by Intl.PluralRules', () => {
    const t = translator('ru');
    expect(t.plural('fieldNameTooLong', 1)).toBe('Название — не длиннее 1 символа.');
    expect(t.plural('fieldNameTooLong', 3)).toBe('Название — не длиннее 3 символов.');
    expect(t.plural('fieldNameTooLong', 200)).toBe('Название — не длиннее 200 символов.');
    expect(t.plural('fieldNameTooLong', 21)).toBe('Название — не длиннее 21 символа.');
    expect(translator('en').plural('fieldNameTooLong', 1)).toBe('Name must be at most 1 character.');
  });

  it('never nests the same quotes: «…„…“…» in Russian, “…‘…’…” in English', () => {
    expect(translator('ru')('confirmDelete', { name: 'Отчёт «Итоги» за год' })).toBe('Удалить «Отчёт „Итоги“ за год»? Это действие нельзя отменить.');
    expect(translator('en')('confirmDelete', { name: 'The “big” plan' })).toBe('Delete “The ‘big’ plan”? This cannot be undone.');
    expect(translator('ru')('greeting', { name: 'Иван «Ваня»' })).toBe('Здравствуйте, Иван «Ваня»');
  });

  it('turns field problem codes into text in each language, and leaves unknown text alone', () => {
    expect(fieldMessage(translator('ru'), 'ru', 'end_before_start')).toBe('Окончание не может быть раньше начала.');
    expect(fieldMessage(translator('en'), 'en', 'name_required')).toBe('Name is required.');
    expect(fieldMessage(translator('ru'), 'ru', 'data_too_large')).toBe('Данные — не больше 16 кБ.');
    expect(fieldMessage(translator('en'), 'en', 'Expected string')).toBe('Expected string');
  });
});
