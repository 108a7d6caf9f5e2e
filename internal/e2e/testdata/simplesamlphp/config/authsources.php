<?php
// The test IdP's people (see ../README.md).
$config = [
    'example-userpass' => [
        'exampleauth:UserPass',
        'alice:Alice-IdP-Passw0rd' => [
            'uid' => ['alice'],
            'mail' => ['alice@example.com'],
            'givenName' => ['Alice'],
            'sn' => ['Liddell'],
            'displayName' => ['Alice Liddell'],
            'https://aws.amazon.com/SAML/Attributes/AccessControl:CostCenter' => ['1234'],
        ],
        // An IdP account carrying a built-in directory user's email.
        'mallory:Mallory-IdP-Passw0rd' => [
            'uid' => ['mallory'],
            'mail' => ['root@example.com'],
        ],
    ],
];
