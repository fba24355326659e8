// swagger-ui-dist ships no types; only this is used (see swagger-ui.ts).
declare module 'swagger-ui-dist' {
  export function getAbsoluteFSPath(): string;
}
