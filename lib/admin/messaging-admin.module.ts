import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import {
  checkHttpOptions,
  checkRuntimeOptions,
  type MessagingAdminModuleAsyncOptions,
  type MessagingAdminModuleOptions,
} from './admin-module.options.js';
import { AdminMonitor } from './admin-monitor.js';
import { ADMIN_RUNTIME_OPTIONS } from './admin.tokens.js';
import { EventEmitterBridge } from './event-emitter-bridge.js';
import { adminController } from './http/admin.controller.js';
import { SWAGGER_UI, SwaggerUi } from './http/swagger-ui.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { QueueOverviewService } from './queue-overview.js';
import { ResourceWatcher } from './resource-watcher.js';

/**
 * Operations for MessagingModule's transport: `MessagingAdminService` (inject it) and, under `/<path>`, a guarded
 * REST API, its OpenAPI document and Swagger UI, a live dashboard and its event stream. Import it beside
 * MessagingModule; it uses that module's options, broker and envelope.
 */
@Module({})
export class MessagingAdminModule {
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
      controllers: [adminController(path, options.guard)],
      providers: [
        runtime,
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
