import { IsIn, IsInt, IsString, Min } from 'class-validator';

export class OrderPaid {
  @IsString() orderId!: string;
  @IsInt() @Min(1) amount!: number;
  @IsIn(['EUR', 'USD', 'SEK']) currency!: string;
}
