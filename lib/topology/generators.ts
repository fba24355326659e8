import { MessagingError } from '../errors.js';
import { toCloudFormation } from './cloudformation.js';
import { toRabbitMqDefinitions } from './rabbitmq-definitions.js';
import { toTerraform } from './terraform.js';
import type { MessagingTopology } from './topology.types.js';

export const TOPOLOGY_FORMATS = ['cloudformation', 'terraform', 'rabbitmq', 'json'] as const;
export type TopologyFormat = (typeof TOPOLOGY_FORMATS)[number];

/**
 * Whether one output of the format can hold several connections' topologies (`json`: a list labelled by connection);
 * the others are one deployable document (a template, a definitions file) for one connection.
 */
export const FORMAT_HOLDS_SEVERAL_TOPOLOGIES: Readonly<Record<TopologyFormat, boolean>> = {
  cloudformation: false,
  terraform: false,
  rabbitmq: false,
  json: true,
};

/** The topology in one of the output formats; `json` is describeTopology()'s own shape. */
export function renderTopology(topology: MessagingTopology, format: TopologyFormat): object {
  switch (format) {
    case 'cloudformation':
      return toCloudFormation(topology);
    case 'terraform':
      return toTerraform(topology);
    case 'rabbitmq':
      return toRabbitMqDefinitions(topology);
    case 'json':
      return topology;
    default:
      throw new MessagingError(`Unknown topology format '${String(format)}'; use one of ${TOPOLOGY_FORMATS.join(', ')}`);
  }
}
