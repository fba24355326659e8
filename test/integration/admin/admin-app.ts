import 'reflect-metadata';
import {
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type ModuleMetadata,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import {
  MessagingAdminModule,
  MessagingModule,
  MessagingServer,
  type MessagingAdminModuleOptions,
  type MessagingModuleOptions,
} from '../../../lib/index.js';

export const ADMIN_TOKEN = 'test-admin-token';

/** 401 without a bearer token, 403 with a wrong one. */
@Injectable()
export class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization;
    if (!header?.startsWith('Bearer ')) throw new UnauthorizedException('admin token required');
    return header.slice('Bearer '.length) === ADMIN_TOKEN;
  }
}

export interface AdminHttpApp {
  app: INestApplication;
  url: string;
  /** A JSON request under the admin path, with the admin token unless `token` is given (null: none). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; json: any; text: string }>;
  close(): Promise<void>;
}

export interface AdminAppExtras {
  /** @EventPattern controllers: the messaging microservice is connected and started to consume them. */
  controllers?: Type[];
  imports?: ModuleMetadata['imports'];
  /** Providers replaced by these values. */
  overrides?: Array<{ token: unknown; value: unknown }>;
}

/** A real HTTP app (Express on a free port) with MessagingModule and MessagingAdminModule. */
export async function startAdminApp(
  messaging: MessagingModuleOptions,
  admin: MessagingAdminModuleOptions = { guard: TokenGuard },
  extras: AdminAppExtras = {},
): Promise<AdminHttpApp> {
  let builder = Test.createTestingModule({
    imports: [MessagingModule.forRoot(messaging), MessagingAdminModule.forRoot(admin), ...(extras.imports ?? [])],
    controllers: extras.controllers ?? [],
  });
  for (const { token, value } of extras.overrides ?? []) builder = builder.overrideProvider(token as string).useValue(value);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false });
  if (extras.controllers?.length) {
    app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const base = `/${(admin.path ?? 'messaging').replace(/^\/+|\/+$/g, '')}`;
  return {
    app,
    url,
    async call(method, path, body, token = ADMIN_TOKEN) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const response = await fetch(`${url}${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    },
    close: () => app.close(),
  };
}
