import { describe, expect, it } from "vitest";
import { describeFreshness } from "./PerfilTab";

describe("describeFreshness", () => {
  it("says the view is current when perfil reports no lag", () => {
    expect(describeFreshness({ lag: "0.000" })).toEqual({ text: "Vista al día", stale: false });
  });

  it("tells staff how far behind the view is, and flags long lags", () => {
    expect(describeFreshness({ lag: "3.2" })).toEqual({ text: "Vista con 3 s de retraso", stale: false });
    expect(describeFreshness({ lag: "125" })).toEqual({ text: "Vista con 2 min de retraso", stale: true });
  });

  it("admits when it does not know", () => {
    expect(describeFreshness({ lag: null })).toEqual({ text: "Frescura de la vista desconocida", stale: true });
  });
});
