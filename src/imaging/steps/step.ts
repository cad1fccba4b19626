import type { Sharp } from 'sharp';
import type { Limits } from '../../config/limits.js';
import type { OperationName, OperationOf } from '../operations.js';

/** What a step knows of the image it receives: its current size, and the operator limits. */
export interface StepContext {
  width: number;
  height: number;
  limits: Limits;
  /** The operation's place in the request, for error messages: "operations[2]". */
  where: string;
}

/**
 * One named processing step. `apply` gets a sharp pipeline that has not yet run anything but the input, so
 * sharp's fixed internal order never reorders what the client asked for (the runner materialises between
 * steps). `singleFrame` steps turn an animation into its first frame.
 */
export interface Step<N extends OperationName> {
  readonly name: N;
  /** True when this operation cannot run frame by frame (it would differ between frames). */
  singleFrame?(op: OperationOf<N>): boolean;
  apply(img: Sharp, op: OperationOf<N>, ctx: StepContext): Sharp | Promise<Sharp>;
}

export function defineStep<N extends OperationName>(step: Step<N>): Step<N> {
  return step;
}
