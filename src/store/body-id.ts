/**
 * What a body store accepts as a body's id (a queue id, or any lower-case alphanumeric name of 6 to
 * 64 characters): never a path, so no id reaches outside the store. Every body store checks it.
 */
import { RelaygateError } from '../core/errors.js';

const BODY_ID = /^[0-9a-z]{6,64}$/;

export function isBodyId(id: string): boolean {
  return BODY_ID.test(id);
}

export class InvalidBodyIdError extends RelaygateError {
  constructor(id: string) {
    super('invalid', `not a body id: ${JSON.stringify(id)}`, { details: { id } });
    this.name = 'InvalidBodyIdError';
  }
}
