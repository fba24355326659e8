#!/usr/bin/env node
import { MessagingOptionsError } from '../errors.js';
import { ADMIN_SERVER_USAGE, startAdminServer } from './admin-server.js';

startAdminServer().then(
  ({ app, url }) => {
    app.enableShutdownHooks();
    process.stdout.write(`nestjs-messaging admin: ${url} (dashboard), ${url}/docs (Swagger UI)\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof MessagingOptionsError) process.stderr.write(`${ADMIN_SERVER_USAGE}\n`);
    process.exitCode = 1;
  },
);
