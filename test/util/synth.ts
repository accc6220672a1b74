import type { Chart } from 'cdk8s';
import { Testing } from 'cdk8s';

/** Synthesis runs every `node.addValidation`; the thrown message lists their errors. */
export function synthError(chart: Chart): string {
  try {
    Testing.synth(chart);
  } catch (error: any) {
    return String(error.message);
  }
  throw new Error('expected synthesis to fail');
}
