import { randomUUID } from 'node:crypto';

/** This service instance: the envelope's service name and a uuid fresh for each process (module instance). */
export class ServiceIdentity {
  readonly uuid = randomUUID();
  constructor(readonly name: string) {}
}
