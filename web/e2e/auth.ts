// Logging in as the browser does: the console's "Iniciar sesión" → the gateway → Keycloak's real login page →
// back to the console with the gateway's session cookie (the page never sees a token).
import { expect, type Page } from "@playwright/test";

/** Demo users of the realm: the password is `<username>-dev`. */
export async function loginAs(page: Page, username: string, returnTo = "/"): Promise<void> {
  await page.goto(returnTo);
  await page.getByRole("link", { name: "Iniciar sesión" }).click();
  // Keycloak's own page, on its own origin.
  await expect(page).toHaveURL(/\/realms\/cloudbank\/protocol\/openid-connect\/auth|\/login-actions\//);
  await page.locator("#username").fill(username);
  await page.locator("#password").fill(`${username}-dev`);
  await page.locator("#kc-login").click();
  await expect(page.getByTestId("user-name")).toHaveText(username);
}
