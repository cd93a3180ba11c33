// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/", ".cache/", ".gatehouse/", "node_modules/", "test/harness/kube/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      "no-console": "off",
    },
  },
  {
    files: ["src/core/**/*.ts"],
    rules: {
      // The pure core does no I/O: no Node built-ins that touch the world.
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "node:fs*",
                "node:net",
                "node:http*",
                "node:child_process",
                "node:os",
                "node:dgram",
                "node:tls",
              ],
              message: "src/core is pure: pass effects in from a shell.",
            },
            {
              group: ["**/server/**", "**/cli/**", "**/store/**", "**/clusters/**", "**/identity/**"],
              message: "core must not import shells",
            },
          ],
        },
      ],
    },
  },
);
