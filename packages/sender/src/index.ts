export const PACKAGE = '@m4sc/sender';
