// The OpenSubtitles hash ("oshash") of a local file, as catalog/oshash.py computes it:
// the size plus the 64-bit little-endian words of the first and last 64 KiB, modulo 2**64.
// Files under 64 KiB contribute their whole words only (the last size % 8 bytes are not
// summed). Two small reads, whatever the file's size.

export const CHUNK_SIZE = 65536;
const MASK = 0xffffffffffffffffn;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function sumWords(buffer) {
  const count = Math.floor(buffer.byteLength / 8);
  let sum = 0n;
  if (LITTLE_ENDIAN) {
    for (const word of new BigUint64Array(buffer, 0, count)) sum += word;
  } else {
    const view = new DataView(buffer);
    for (let i = 0; i < count; i += 1) sum += view.getBigUint64(i * 8, true);
  }
  return sum;
}

export async function oshash(blob) {
  const size = blob.size;
  let total = BigInt(size);
  if (size < CHUNK_SIZE) {
    total += sumWords(await blob.slice(0, size - (size % 8)).arrayBuffer());
  } else {
    const [head, tail] = await Promise.all([
      blob.slice(0, CHUNK_SIZE).arrayBuffer(),
      blob.slice(size - CHUNK_SIZE, size).arrayBuffer(),
    ]);
    total += sumWords(head) + sumWords(tail);
  }
  return (total & MASK).toString(16).padStart(16, '0');
}
