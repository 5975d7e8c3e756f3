/** C0 controls and DEL: never part of a name, key, secret or URL a caller gives. */
export const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;
