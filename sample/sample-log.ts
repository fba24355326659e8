import { Injectable } from '@nestjs/common';

/** What the sample's handlers saw, so main.ts can wait for the flow to finish and print it. */
@Injectable()
export class SampleLog {
  readonly lines: string[] = [];
  paid = 0;
  refundAttempts = 0;

  add(line: string): void {
    this.lines.push(line);
    console.log(line);
  }
}
