import { Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MessagingError } from '../errors.js';
import type { EnvelopeSetting, MessageEnvelope } from './message-envelope.js';

/** Nest calls these on every provider value; the delegating view hides them so the envelope's own run once. */
const LIFECYCLE_HOOKS = new Set<PropertyKey>([
  'onModuleInit',
  'onApplicationBootstrap',
  'onModuleDestroy',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
]);

/** Turns an envelope setting into an instance: a provider registered anywhere in the app, else one created through DI. */
@Injectable()
export class EnvelopeResolver {
  private readonly instances = new Map<Type<MessageEnvelope>, Promise<MessageEnvelope>>();

  constructor(private readonly moduleRef: ModuleRef) {}

  resolve(setting: EnvelopeSetting): Promise<MessageEnvelope> {
    if (typeof setting !== 'function') return prepared(setting);
    let instance = this.instances.get(setting);
    if (!instance) {
      instance = this.instantiate(setting);
      this.instances.set(setting, instance);
    }
    return instance;
  }

  private async instantiate(type: Type<MessageEnvelope>): Promise<MessageEnvelope> {
    try {
      this.moduleRef.get(type, { strict: false });
    } catch {
      let created: MessageEnvelope;
      try {
        created = await this.moduleRef.create(type);
      } catch (error) {
        throw new MessagingError(
          `Cannot create envelope ${type.name} through dependency injection: ${(error as Error).message}. Register ${type.name} as a provider in the module that provides its dependencies (or make them global)`,
          { cause: error },
        );
      }
      return prepared(created);
    }
    return this.providerView(type);
  }

  /**
   * The envelope is a provider of the app. While modules are still being instantiated (the module's default envelope
   * is resolved then), `moduleRef.get` can hand out a placeholder whose constructor has not run yet (its injected
   * dependencies undefined), and the real instance replaces it later. So return a view that looks the provider up
   * when used, by which time Nest has created it; `instanceof` still works.
   */
  private providerView(type: Type<MessageEnvelope>): MessageEnvelope {
    const current = () => this.moduleRef.get(type, { strict: false }) as MessageEnvelope & Record<PropertyKey, unknown>;
    return new Proxy(Object.create(type.prototype) as MessageEnvelope, {
      get(_target, property) {
        if (LIFECYCLE_HOOKS.has(property)) return undefined;
        const instance = current();
        const value = Reflect.get(instance, property, instance);
        return typeof value === 'function' && property !== 'constructor' ? value.bind(instance) : value;
      },
      has: (_target, property) => !LIFECYCLE_HOOKS.has(property) && Reflect.has(current(), property),
      getPrototypeOf: () => Object.getPrototypeOf(current()),
    });
  }
}

/** A provider view is prepared later, by the server, once Nest has created the provider behind it. */
async function prepared(envelope: MessageEnvelope): Promise<MessageEnvelope> {
  await envelope.prepare?.();
  return envelope;
}
