# Install layout (included from the top-level CMakeLists.txt).  The targets
# install themselves (src/, tools/hec-emulator/); this adds what an operator
# needs around the binary:
#
#   <prefix>/bin/clawdstrike-relay, <prefix>/bin/hec-emulator
#   /etc/clawdstrike/relay.yaml              sample, every key (kept if present)
#   <prefix>/lib/systemd/system/clawdstrike-relay.service
#   <prefix>/lib/sysusers.d/clawdstrike-relay.conf   the `clawdstrike` user
#   <prefix>/share/doc/clawdstrike-relay/    README and docs/
#
# The configuration directory is absolute (the binary's default config path
# is /etc/clawdstrike/relay.yaml); use DESTDIR for staged installs.
include(GNUInstallDirs)
set(RELAY_CONFIG_DIR /etc/clawdstrike CACHE PATH
	"directory of relay.yaml (absolute; the binary looks in /etc/clawdstrike)")
set(RELAY_SYSTEMD_UNIT_DIR lib/systemd/system CACHE PATH
	"systemd unit directory (relative: under the install prefix)")
set(RELAY_SYSUSERS_DIR lib/sysusers.d CACHE PATH
	"sysusers.d directory (relative: under the install prefix)")

# The sample configuration: an existing relay.yaml is an operator's, never
# overwritten (the new sample goes next to it as relay.yaml.sample).
install(CODE "
	set(dir \"\$ENV{DESTDIR}${RELAY_CONFIG_DIR}\")
	file(MAKE_DIRECTORY \"\${dir}\")
	if(EXISTS \"\${dir}/relay.yaml\")
		message(STATUS \"Keeping: \${dir}/relay.yaml (sample: relay.yaml.sample)\")
		set(dst relay.yaml.sample)
	else()
		message(STATUS \"Installing: \${dir}/relay.yaml\")
		set(dst relay.yaml)
	endif()
	file(READ \"${CMAKE_SOURCE_DIR}/etc/relay.yaml\" sample)
	file(WRITE \"\${dir}/\${dst}\" \"\${sample}\")
")

# The unit names the installed binary: substitute the prefix at install
# time, so `cmake --install --prefix P` gets P/bin.
install(CODE "
	file(READ \"${CMAKE_SOURCE_DIR}/etc/clawdstrike-relay.service\" unit)
	string(REPLACE \"@RELAY_BINDIR@\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\" unit \"\${unit}\")
	string(REPLACE \"@RELAY_DOCDIR@\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\" unit \"\${unit}\")
	set(dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${RELAY_SYSTEMD_UNIT_DIR}\")
	file(MAKE_DIRECTORY \"\${dir}\")
	message(STATUS \"Installing: \${dir}/clawdstrike-relay.service\")
	file(WRITE \"\${dir}/clawdstrike-relay.service\" \"\${unit}\")
")
install(FILES ${CMAKE_SOURCE_DIR}/etc/clawdstrike-relay.sysusers
	DESTINATION ${RELAY_SYSUSERS_DIR} RENAME clawdstrike-relay.conf)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
	PATTERN "render.sh" EXCLUDE)
