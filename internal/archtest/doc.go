// Package archtest holds tests that keep the module's import rules: each database driver and the web
// framework stay inside the one package that adapts them, and the store contract imports no driver.
package archtest
