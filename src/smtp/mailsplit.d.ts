// Types for the parts of mailsplit (no published typings) that the DATA pipeline uses.
declare module 'mailsplit' {
  import type { Transform } from 'node:stream';

  export interface HeaderLine {
    key: string;
    line: string;
  }

  export class Headers {
    get(key: string): string[];
    getList(): HeaderLine[];
    remove(key: string): void;
    addFormatted(key: string, line: string, index?: number): void;
  }

  export interface MimeNode {
    type: 'node';
    root: boolean;
    headers: Headers;
    getHeaders(): Buffer;
  }

  export interface MimeChunk {
    type: 'data' | 'body';
    value: Buffer;
  }

  export type SplitterOutput = MimeNode | MimeChunk;

  export class Splitter extends Transform {
    constructor(options?: { ignoreEmbedded?: boolean; maxHeadSize?: number; maxChildNodes?: number });
  }

  export class Joiner extends Transform {
    constructor();
  }
}
