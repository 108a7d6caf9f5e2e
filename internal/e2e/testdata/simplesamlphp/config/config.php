<?php
// simplesamlphp 1.19 as a test IdP on loopback (see ../README.md). The
// per-run values come from the environment the e2e test sets.
$dir = getenv('ATRIUM_SSP_DIR');
$config = [
    'baseurlpath' => getenv('ATRIUM_SSP_BASEURL'),
    'certdir' => $dir . '/',
    'loggingdir' => $dir . '/',
    'datadir' => $dir . '/',
    'tempdir' => $dir . '/tmp',
    'secretsalt' => getenv('ATRIUM_SSP_SALT'),
    'technicalcontact_name' => 'Atrium tests',
    'technicalcontact_email' => 'tests@example.com',
    'timezone' => 'UTC',
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'showerrors' => true,
    'errorreporting' => false,
    'logging.level' => SimpleSAML\Logger::NOTICE,
    'logging.handler' => 'stderr',
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true],
    'metadata.sources' => [
        ['type' => 'flatfile', 'directory' => $dir . '/metadata'],
    ],
    'store.type' => 'phpsession',
    'session.cookie.name' => 'SimpleSAMLSessionID',
    'session.cookie.secure' => false, // plain http on loopback
    'session.cookie.samesite' => 'Lax',
    'session.phpsession.cookiename' => 'SimpleSAML',
    'session.phpsession.savepath' => $dir . '/sessions',
    'session.duration' => 3600,
    'language.default' => 'en',
    'theme.use' => 'default',
];
