// A Bloom filter over the SHA-256 hashes of every key in the database: "no" is certain, so a
// made-up key with a valid checksum is refused without a database query; "maybe" goes on to the
// cache and the database. Keys are only ever added (a revoked or deleted key still answers
// REVOKED, not NOT_FOUND), and the filter grows by adding a larger layer when the current one is
// full, so a long-running instance never rebuilds it on the request path.
const BITS_PER_KEY = 16;
/** k for 16 bits per key: a false positive rate near 0.05% at capacity. */
const PROBES = 11;
const MIN_CAPACITY = 4096;

class BloomLayer {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  count = 0;

  constructor(readonly capacity: number) {
    let size = 1;
    while (size < capacity * BITS_PER_KEY) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  get bytes(): number {
    return this.bits.byteLength;
  }

  add(h1: number, h2: number): void {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] ?? 0) | (1 << (bit & 31));
    }
    this.count++;
  }

  has(h1: number, h2: number): boolean {
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if (((this.bits[bit >>> 5] ?? 0) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * Two independent 32-bit words of a hex SHA-256 (double hashing): the hash is already uniform,
 * so no further hashing is needed. Anything that is not 64 hex characters is hashed by its text.
 */
function words(hash: string): [number, number] {
  if (hash.length >= 16 && /^[0-9a-f]{16}/i.test(hash)) {
    return [Number.parseInt(hash.slice(0, 8), 16) | 0, Number.parseInt(hash.slice(8, 16), 16) | 1];
  }
  // FNV-1a twice with different offsets: only reached by callers that pass something else.
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < hash.length; i++) {
    a = Math.imul(a ^ hash.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ hash.charCodeAt(i), 0x5bd1e995);
  }
  return [a | 0, b | 1];
}

export class KeyFilter {
  private readonly layers: BloomLayer[];
  /** The layer new hashes go to: the last and largest. */
  private current: BloomLayer;

  constructor(expected = 0) {
    this.current = new BloomLayer(Math.max(MIN_CAPACITY, expected * 2));
    this.layers = [this.current];
  }

  /** A filter holding exactly these hashes. */
  static of(hashes: Iterable<string>, expected = 0): KeyFilter {
    const filter = new KeyFilter(expected);
    for (const hash of hashes) filter.add(hash);
    return filter;
  }

  add(hash: string): void {
    if (this.current.count >= this.current.capacity) {
      this.current = new BloomLayer(this.current.capacity * 2);
      this.layers.push(this.current);
    }
    const [h1, h2] = words(hash);
    this.current.add(h1, h2);
  }

  /** False: this hash is certainly not a key's. True: it may be. */
  mayHave(hash: string): boolean {
    const [h1, h2] = words(hash);
    for (const layer of this.layers) if (layer.has(h1, h2)) return true;
    return false;
  }

  get size(): number {
    return this.layers.reduce((n, l) => n + l.count, 0);
  }

  get bytes(): number {
    return this.layers.reduce((n, l) => n + l.bytes, 0);
  }
}
