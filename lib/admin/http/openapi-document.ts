import type { TransportName } from '../../messaging.options.js';
import type { AdminConnectionSummary } from '../admin-connection.js';
import { ADMIN_ROUTES, type AdminRoute } from '../admin-schemas.js';
import { MAX_JSON_DEPTH, type Argument, type Placement } from '../admin-validation.js';

const ERROR = { $ref: '#/components/schemas/Error' };

/**
 * The OpenAPI 3.0 document of the admin REST API mounted at `/<path>` for the app's `connections` (the default
 * first), built from the route records that the controller and MessagingAdminService check arguments with (no
 * @nestjs/swagger needed): an argument that no connection's transport honours is left out, as the API refuses it, and
 * one that only some honour says on which transport.
 */
export function openApiDocument(path: string, connections: readonly AdminConnectionSummary[]): Record<string, unknown> {
  const base = path ? `/${path}` : '';
  const transports = [...new Set(connections.map((c) => c.transport))];
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of Object.values(ADMIN_ROUTES) as AdminRoute[]) {
    const url = `${base}/${route.path.replace(/:(\w+)/g, '{$1}')}`;
    paths[url] = { ...paths[url], [route.method.toLowerCase()]: operation(route, transports, connections) };
  }
  const where =
    connections.length > 1
      ? `Connections: ${connections.map((c) => `${c.name} (${c.transport})`).join(', ')}; every operation acts on the one its \`connection\` query parameter names, the default when absent (an unknown name is a 400)`
      : `Transport: ${transports[0]}`;
  return {
    openapi: '3.0.3',
    info: {
      title: 'nestjs-messaging admin API',
      version: '1',
      description: `${where}. Every argument is checked before any broker call: a wrong type, an unknown field or a field the connection's transport does not honour is a 400 naming it. JSON values nest at most ${MAX_JSON_DEPTH} levels.`,
    },
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  };
}

function operation(
  route: AdminRoute,
  transports: readonly TransportName[],
  connections: readonly AdminConnectionSummary[],
): Record<string, unknown> {
  const args = Object.entries(route.args)
    .filter(([, argument]) => !argument.only || transports.includes(argument.only.transport))
    .map(([name, argument]): [string, Argument] => [
      name,
      argument.only && transports.length > 1
        ? { ...argument, description: `${argument.description} (${argument.only.transport} connections only)` }
        : argument,
    ]);
  const placed = (placement: Placement) => args.filter(([, argument]) => argument.in === placement);
  const parameters = [...placed('path'), ...placed('query')].map(([name, argument]) => ({
    name,
    in: argument.in,
    required: argument.in === 'path' || argument.required,
    description: argument.description,
    // the connection parameter takes the app's connection names
    schema: name === 'connection' ? { ...argument.field.openApi, enum: connections.map((c) => c.name) } : argument.field.openApi,
  }));
  const body = placed('body');
  const required = body.filter(([, argument]) => argument.required).map(([name]) => name);
  const { status, description, schema = { type: 'object' }, contentType = 'application/json' } = route.answer;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body.length > 0
      ? {
          requestBody: {
            required: required.length > 0,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: Object.fromEntries(body.map(([name, argument]) => [name, property(argument)])),
                  ...(required.length > 0 ? { required } : {}),
                  additionalProperties: false,
                },
              },
            },
          },
        }
      : {}),
    responses: {
      [status]: status === 204 ? { description } : { description, content: { [contentType]: { schema } } },
      '400': errorAnswer(
        "Invalid argument: wrong type, unknown field, a field the connection's transport does not honour, a connection the app does not have, or invalid JSON",
      ),
      '401': { description: 'The guard wants credentials' },
      '403': { description: 'The guard refused' },
      '404': errorAnswer('No such queue, topic or subscription'),
      '409': errorAnswer('Exists with other settings, or the broker refused it in its current state'),
      '413': errorAnswer('The request body is too large'),
      '501': errorAnswer('Not available on this transport'),
      '502': errorAnswer('The broker answered with an error of its own'),
      '503': errorAnswer('The broker is unavailable'),
    },
  };
}

function property(argument: Argument): Record<string, unknown> {
  return { ...argument.field.openApi, description: argument.description };
}

function errorAnswer(description: string) {
  return { description, content: { 'application/json': { schema: ERROR } } };
}
