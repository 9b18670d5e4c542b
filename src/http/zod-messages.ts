// zod/mini validates like "zod" at a few KB of bundle instead of hundreds, but ships without
// error messages: load the English ones once, at startup. (Import z as a namespace where it is
// used; re-exporting the namespace from here would defeat tree-shaking and bundle every locale.)
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
