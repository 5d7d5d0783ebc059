#!/usr/bin/env node
// The quickstart demo (npm run demo): the classroom example for 12 seconds — a sender streaming semantic
// symbols of synthetic scenes, receivers reconstructing, captioning, classifying and answering questions,
// two of them sharing one encode. See examples/README.md for the others.
import './classroom.mjs';
