import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import {
  ADMIN_HTTP_SETTINGS,
  checkHttpOptions,
  type AdminHttpSettings,
  checkRuntimeOptions,
  type MessagingAdminModuleAsyncOptions,
  type MessagingAdminModuleOptions,
} from './admin-module.options.js';
import { AdminMonitor } from './admin-monitor.js';
import { ADMIN_RUNTIME_OPTIONS } from './admin.tokens.js';
import { EventEmitterBridge } from './event-emitter-bridge.js';
import { adminHttpMiddleware } from './http/admin-http.middleware.js';
import { adminController } from './http/admin.controller.js';
import { signInController } from './http/sign-in.controller.js';
import { SWAGGER_UI, SwaggerUi } from './http/swagger-ui.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { QueueOverviewService } from './queue-overview.js';
import { ResourceWatcher } from './resource-watcher.js';

/**
 * Operations for MessagingModule's connections: `MessagingAdminService` (inject it) and, under `/<path>`, a guarded
 * REST API, its OpenAPI document and Swagger UI, a live dashboard and its event stream. Import it beside
 * MessagingModule; it serves every connection of the app (the default and each `MessagingModule.forRoot({ name })`),
 * each with that connection's options, broker, transport and envelope.
 */
@Module({})
export class MessagingAdminModule implements NestModule, OnModuleInit {
  constructor(@Inject(ADMIN_HTTP_SETTINGS) private readonly http: AdminHttpSettings) {}

  configure(consumer: MiddlewareConsumer): void {
    const { path } = this.http;
    consumer.apply(adminHttpMiddleware(path)).forRoutes(path === '' ? '{*rest}' : path, `${path}/{*rest}`);
  }

  onModuleInit(): void {
    if (this.http.unprotected)
      new Logger('MessagingAdmin').warn(
        `The admin REST API and dashboard at /${this.http.path} are unprotected (unprotected: true): nothing in this module checks who calls them, and they can delete and purge queues`,
      );
  }

  static forRoot(options: MessagingAdminModuleOptions): DynamicModule {
    const { path: _path, guard: _guard, unprotected: _unprotected, imports: _imports, ...runtime } = options;
    return MessagingAdminModule.build(options, { provide: ADMIN_RUNTIME_OPTIONS, useValue: checkRuntimeOptions(runtime) });
  }

  /** `path`, `guard` and `unprotected` shape the routes, so they are given here; `useFactory` supplies the rest (watch). */
  static forRootAsync(options: MessagingAdminModuleAsyncOptions): DynamicModule {
    return MessagingAdminModule.build(options, {
      provide: ADMIN_RUNTIME_OPTIONS,
      useFactory: async (...args: unknown[]) => checkRuntimeOptions(await options.useFactory(...args)),
      inject: options.inject ?? [],
    });
  }

  private static build(options: MessagingAdminModuleOptions | MessagingAdminModuleAsyncOptions, runtime: Provider): DynamicModule {
    const path = checkHttpOptions(options);
    return {
      module: MessagingAdminModule,
      imports: options.imports ?? [],
      controllers: [signInController(path), adminController(path, options.guard)],
      providers: [
        runtime,
        { provide: ADMIN_HTTP_SETTINGS, useValue: { path, unprotected: options.unprotected === true } satisfies AdminHttpSettings },
        MessagingAdminService,
        ResourceWatcher,
        QueueOverviewService,
        AdminMonitor,
        EventEmitterBridge,
        { provide: SWAGGER_UI, useFactory: () => new SwaggerUi() },
      ],
      exports: [MessagingAdminService],
    };
  }
}
