// Package deploy holds gridbot's deployment files, not code: the compose
// file for the scaled-out setup (Valkey, two instances, nginx), the nginx
// configuration, the systemd unit for one machine, and a commented
// production configuration. The Dockerfile is at the repository root, where
// its build context must be.
//
// None of them can be run on the development machines (no Docker engine, no
// systemd as init). deploy_test.go checks what can be checked: the files
// parse, name what the README promises, agree with the configuration loader,
// and the binary builds static.
package deploy
