#!/usr/bin/env node
// Thin launcher so the `bin` entry stays stable while the build output moves.
import "../dist/cli/main.js";
