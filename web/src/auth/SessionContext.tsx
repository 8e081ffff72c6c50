// The logged-in user and what they may do, for every component below the app shell.
import { createContext, useContext } from "react";
import { type Action, can } from "./roles";
import type { Session } from "./session";

export interface SessionValue {
  session: Session | null;
  can: (action: Action) => boolean;
}

// Outside a provider (a component rendered alone, as in its unit tests) everything is offered, as before logins
// existed; the app always provides the real session, and the services refuse what a role may not do anyway.
const UNRESTRICTED: SessionValue = { session: null, can: () => true };

export const SessionContext = createContext<SessionValue>(UNRESTRICTED);

export function sessionValue(session: Session): SessionValue {
  return { session, can: (action) => can(session.roles, action) };
}

export function useSession(): SessionValue {
  return useContext(SessionContext);
}
