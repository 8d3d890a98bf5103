// Keygate's key format: `<prefix>_<base62 random>_<6 base62 chars of CRC32>`.
// The checksum lets verification reject a mistyped or forged key before any database work.
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 24 base62 characters: 142 bits of randomness (the floor is 128). */
const RANDOM_LENGTH = 24;
const CHECKSUM_LENGTH = 6;

/** Uniform base62: rejection sampling avoids the bias of `byte % 62`. */
function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62(value: number, width: number): string {
  let out = "";
  let n = value;
  while (n > 0) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(width, "0");
}

function checksum(body: string): string {
  return base62(crc32(body) >>> 0, CHECKSUM_LENGTH);
}

export function keyPrefix(tenantPrefix: string, test: boolean): string {
  return test ? `${tenantPrefix}_test` : tenantPrefix;
}

export function generateKey(prefix: string): string {
  const body = `${prefix}_${randomBase62(RANDOM_LENGTH)}`;
  return `${body}_${checksum(body)}`;
}

const shape = /^[a-z][a-z0-9]{1,11}(?:_test)?_[0-9A-Za-z]{24}_[0-9A-Za-z]{6}$/;

/** Each base62 digit's value by character code. */
const DIGIT = new Int8Array(128);
for (const [value, char] of [...ALPHABET].entries()) DIGIT[char.charCodeAt(0)] = value;

/**
 * Shape and checksum only: no secret comparison happens here, so timing does not matter. Runs on
 * every verification, so it builds no strings: the checksum is read as a number and compared.
 */
export function wellFormedKey(key: string): boolean {
  if (typeof key !== "string" || key.length > 64 || !shape.test(key)) return false;
  const at = key.length - CHECKSUM_LENGTH;
  let value = 0;
  for (let i = at; i < key.length; i++) value = value * 62 + (DIGIT[key.charCodeAt(i)] ?? 0);
  // The checksum covers everything before its own underscore.
  return value === crc32(key.slice(0, at - 1)) >>> 0;
}

/** The parts kept for listings: `kg_4a3b…9f0e`. */
export function maskParts(key: string): { start: string; end: string } {
  const lastUnderscore = key.lastIndexOf("_");
  const secondLast = key.lastIndexOf("_", lastUnderscore - 1);
  const cut = secondLast > 0 && secondLast < 20 ? secondLast + 1 : Math.min(8, key.length);
  return { start: key.slice(0, cut + 4), end: key.slice(-4) };
}

export function masked(start: string, end: string): string {
  return `${start}…${end}`;
}
