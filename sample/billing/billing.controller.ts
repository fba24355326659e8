import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MessagingContext, MessagingValidationPipe } from '../../lib/index.js';
import { SampleLog } from '../sample-log.js';
import { OrderPaid } from './order-paid.dto.js';

@Controller()
export class BillingController {
  constructor(private readonly log: SampleLog) {}

  /** Only EUR and USD payments reach billing: SNS drops the rest; over AMQP the same policy is applied to the headers. */
  @EventPattern('order-paid', { filterPolicy: { currency: ['EUR', 'USD'] } })
  onOrderPaid(@Payload(new MessagingValidationPipe()) order: OrderPaid, @Ctx() ctx: MessagingContext) {
    this.log.paid++;
    this.log.add(
      `billing  <- order-paid ${order.orderId} ${order.amount} ${order.currency} (from ${ctx.getEnvelope().service?.name}, attempt ${ctx.getReceiveCount()})`,
    );
  }

  /** Always fails: after maxReceiveCount attempts the message lands in the dead-letter queue. */
  @EventPattern('order-refunded', { maxReceiveCount: 2 })
  onOrderRefunded(@Payload() refund: { orderId: string }, @Ctx() ctx: MessagingContext) {
    this.log.refundAttempts++;
    this.log.add(`billing  <- order-refunded ${refund.orderId}, attempt ${ctx.getReceiveCount()}: failing on purpose`);
    // what a handler throws is the retry and dead-letter reason, an ordinary Error included (README, Failures)
    throw new Error(`refund ledger for ${refund.orderId} is unavailable`);
  }
}
