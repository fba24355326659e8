// Unit tests run without brokers: a test that reaches for the shared RabbitMQ through test/support/rabbitmq.ts
// gets a closed port and fails, instead of passing only where a broker happens to run.
process.env.AMQP_URL = 'amqp://guest:guest@127.0.0.1:1';
