export const PACKAGE = '@m4sc/signaling';
