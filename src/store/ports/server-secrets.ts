/** Secrets of the installation (the SRS HMAC key), made once and kept. */
export interface ServerSecrets {
  /** The secret called `name`, made (32 random bytes) the first time it is asked for. */
  secret(name: string, now: number): Promise<string>;
}
