import { Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EnvelopeSetting, MessageEnvelope } from './message-envelope.js';

/** Turns an envelope setting into an instance: a provider registered anywhere in the app, else one created through DI. */
@Injectable()
export class EnvelopeResolver {
  private readonly instances = new Map<Type<MessageEnvelope>, Promise<MessageEnvelope>>();

  constructor(private readonly moduleRef: ModuleRef) {}

  resolve(setting: EnvelopeSetting): Promise<MessageEnvelope> {
    if (typeof setting !== 'function') return Promise.resolve(setting);
    let instance = this.instances.get(setting);
    if (!instance) {
      instance = this.instantiate(setting);
      this.instances.set(setting, instance);
    }
    return instance;
  }

  private async instantiate(type: Type<MessageEnvelope>): Promise<MessageEnvelope> {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      return this.moduleRef.create(type);
    }
  }
}
