/** Collects every secret a test handled, so the file can assert none of them reached the app's log. */
export function secretsSeen() {
  const seen = new Set<string>();
  return {
    add(...values: (string | null | undefined)[]) {
      for (const v of values) if (v && v.length >= 16) seen.add(v);
    },
    addForm(form: Record<string, string>) {
      this.add(form.AUTH_ID, form.REFRESH_ID, form.APPLICATION_TOKEN);
    },
    leakedInto(lines: string[]): string[] {
      const text = lines.join('\n');
      return [...seen].filter((s) => text.includes(s));
    },
    get size() {
      return seen.size;
    },
  };
}
