/**
 * The peer libraries live in bench/peers/node_modules (Nest 11, CommonJS), apart from the library's own Nest 12.
 * Subjects load them through this require so the two Nest versions never mix; they are typed `any` on purpose so
 * `npm run typecheck` passes without the peers installed.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const peerRequire = createRequire(join(process.cwd(), 'bench', 'peers', 'package.json'));

export type Any = any;

export function loadNest11(): { common: Any; core: Any; microservices: Any } {
  peerRequire('reflect-metadata');
  return { common: peerRequire('@nestjs/common'), core: peerRequire('@nestjs/core'), microservices: peerRequire('@nestjs/microservices') };
}
