import 'reflect-metadata';
import { Controller, Get, Inject, type INestApplication, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { AddressInfo } from 'node:net';
import {
  MessagingHealthIndicator,
  MessagingMetrics,
  MessagingModule,
  MessagingServer,
  type MessagingContext,
  type MessagingModuleOptions,
  type SubscriptionExtras,
} from '../../../lib/index.js';

/** What /health checks: set per test before the request. */
export const HEALTH_CHECK = Symbol('health check options');

@Controller()
class ObservabilityController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly messaging: MessagingHealthIndicator,
    private readonly metrics: MessagingMetrics,
    @Inject(HEALTH_CHECK) private readonly check: { deadLetterThreshold?: number },
  ) {}

  @Get('health')
  @HealthCheck()
  healthCheck() {
    return this.health.check([() => this.messaging.isHealthy('messaging', this.check)]);
  }

  @Get('metrics')
  async scrape(): Promise<string> {
    if (!this.metrics) return '';
    return this.metrics.registry.metrics();
  }
}

export interface HttpApp {
  app: INestApplication;
  url: string;
  get(path: string): Promise<{ status: number; text: string; json: () => any }>;
  close(): Promise<void>;
}

/** A real HTTP app (Express on a free port) with MessagingModule, /health (terminus) and /metrics, the microservice started. */
export async function startHttpApp(
  options: MessagingModuleOptions,
  controllers: Type[],
  check: { deadLetterThreshold?: number } = {},
): Promise<HttpApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [MessagingModule.forRoot(options), TerminusModule],
    controllers: [ObservabilityController, ...controllers],
    providers: [{ provide: HEALTH_CHECK, useValue: check }],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false });
  app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    async get(path: string) {
      const response = await fetch(`${url}${path}`);
      const text = await response.text();
      return { status: response.status, text, json: () => JSON.parse(text) };
    },
    close: () => app.close(),
  };
}

/** The value of one sample in a Prometheus text exposition, by metric name and exact labels; undefined when absent. */
export function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[m[1]] = m[2];
    const keys = Object.keys(labels);
    if (keys.length === Object.keys(found).length && keys.every((k) => found[k] === labels[k])) return Number(match[3]);
  }
  return undefined;
}

export type Handler = (data: any, ctx: MessagingContext) => unknown;

/** A controller with one @EventPattern handler per entry; handlers get the payload and the MessagingContext. */
export function handlersController(handlers: Array<{ pattern: string; extras?: SubscriptionExtras; handle: Handler }>): Type {
  @Controller()
  class Handlers {}
  handlers.forEach(({ pattern, extras, handle }, index) => {
    const name = `on${index}`;
    const descriptor: PropertyDescriptor = {
      value: (data: unknown, ctx: MessagingContext) => handle(data, ctx),
      writable: true,
      configurable: true,
    };
    Object.defineProperty(Handlers.prototype, name, descriptor);
    Payload()(Handlers.prototype, name, 0);
    Ctx()(Handlers.prototype, name, 1);
    Reflect.defineMetadata('design:paramtypes', [Object, Object], Handlers.prototype, name);
    EventPattern(pattern, extras ?? {})(Handlers.prototype, name, descriptor);
    Object.defineProperty(Handlers.prototype, name, descriptor);
  });
  return Handlers;
}
