import { Injectable } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingRecord } from '../../lib/index.js';

@Injectable()
export class OrdersService {
  constructor(private readonly messaging: MessagingClient) {}

  /** Resolves once the broker accepted the event. */
  async pay(orderId: string, amount: number, currency: string): Promise<void> {
    await lastValueFrom(
      this.messaging.emit('order-paid', new MessagingRecord({ orderId, amount, currency }, { attributes: { currency, amount } })),
    );
    console.log(`orders   -> order-paid ${orderId} ${amount} ${currency}`);
  }

  async refund(orderId: string): Promise<void> {
    await lastValueFrom(this.messaging.emit('order-refunded', { orderId }));
    console.log(`orders   -> order-refunded ${orderId}`);
  }
}
