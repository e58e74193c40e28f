// Text imports (`with { type: 'text' }`) of browser files that Bun embeds in the compiled binary.
declare module 'htmx.org/dist/htmx.min.js' {
  const text: string;
  export default text;
}
declare module '@alpinejs/csp/dist/cdn.min.js' {
  const text: string;
  export default text;
}
declare module '*/island.js' {
  const text: string;
  export default text;
}
declare module '*/frame.js' {
  const text: string;
  export default text;
}
declare module '*.css' {
  const text: string;
  export default text;
}
declare module '*.sql' {
  const text: string;
  export default text;
}
