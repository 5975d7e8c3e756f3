/**
 * An encoder that writes into one buffer kept between calls, with that
 * buffer replaced (`reset`) when a call throws: half a message may be left
 * in it, and the next answer must not start with it.
 */
export function resetOnThrow<T>(encode: (value: T) => Uint8Array, reset: () => void): (value: T) => Uint8Array {
  return (value) => {
    try {
      return encode(value);
    } catch (error) {
      reset();
      throw error;
    }
  };
}
