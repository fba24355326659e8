import type { TransportName } from '../../messaging.options.js';
import { ADMIN_ROUTES, type AdminRoute } from '../admin-schemas.js';
import { MAX_JSON_DEPTH, type Argument, type Placement } from '../admin-validation.js';

const ERROR = { $ref: '#/components/schemas/Error' };

/**
 * The OpenAPI 3.0 document of the admin REST API mounted at `/<path>` on `transport`, built from the route records
 * that the controller and MessagingAdminService check arguments with (no @nestjs/swagger needed): an argument the
 * transport does not honour is left out, as the API refuses it.
 */
export function openApiDocument(path: string, transport: TransportName): Record<string, unknown> {
  const base = path ? `/${path}` : '';
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of Object.values(ADMIN_ROUTES) as AdminRoute[]) {
    const url = `${base}/${route.path.replace(/:(\w+)/g, '{$1}')}`;
    paths[url] = { ...paths[url], [route.method.toLowerCase()]: operation(route, transport) };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'nestjs-messaging admin API',
      version: '1',
      description: `Transport: ${transport}. Every argument is checked before any broker call: a wrong type, an unknown field or a field this transport does not honour is a 400 naming it. JSON values nest at most ${MAX_JSON_DEPTH} levels.`,
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

function operation(route: AdminRoute, transport: TransportName): Record<string, unknown> {
  const args = Object.entries(route.args).filter(([, argument]) => !argument.only || argument.only.transport === transport);
  const placed = (placement: Placement) => args.filter(([, argument]) => argument.in === placement);
  const parameters = [...placed('path'), ...placed('query')].map(([name, argument]) => ({
    name,
    in: argument.in,
    required: argument.in === 'path' || argument.required,
    description: argument.description,
    schema: argument.field.openApi,
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
      '400': errorAnswer('Invalid argument: wrong type, unknown field, a field this transport does not honour, or invalid JSON'),
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
