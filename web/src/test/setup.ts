// Vitest setup: DOM matchers, a clean DOM between tests, and patient async queries (the machine is shared).
import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

configure({ asyncUtilTimeout: 5_000 });
afterEach(() => cleanup());
