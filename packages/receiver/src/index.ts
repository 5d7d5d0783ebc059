export const PACKAGE = '@m4sc/receiver';
