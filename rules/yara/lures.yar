/*
 * bulwark's YARA rules for the lures of reported mails and files (compiled into the program;
 * an organisation adds its own with --yara-dir). meta: weight (points towards the verdict,
 * default 50) and description (the reason shown).
 */

rule bulwark_lnk_runs_shell
{
    meta:
        weight = 40
        description = "a Windows shortcut whose command line starts a shell, PowerShell, mshta or a script host"
    strings:
        $c1 = "cmd.exe" ascii wide nocase
        $c2 = "powershell" ascii wide nocase
        $c3 = "mshta" ascii wide nocase
        $c4 = "wscript" ascii wide nocase
        $c5 = "cscript" ascii wide nocase
        $c6 = "rundll32" ascii wide nocase
    condition:
        uint32(0) == 0x0000004C and uint32(4) == 0x00021401 and any of ($c*)
}

rule bulwark_powershell_encoded_command
{
    meta:
        weight = 50
        description = "a PowerShell command line with an encoded command (-enc / -EncodedCommand)"
    strings:
        $a = /powershell(\.exe)?[\x00 ]([\x00 ]|-[a-zA-Z]+[\x00 ]+[a-zA-Z]*[\x00 ]*)*-e(nc|ncodedcommand)?[\x00 ]+[A-Za-z0-9+\/=\x00]{20,}/ nocase
    condition:
        $a
}

rule bulwark_script_shell_object
{
    meta:
        weight = 50
        description = "a script that creates a shell object to run programs (WScript.Shell, Shell.Application)"
    strings:
        $o1 = "WScript.Shell" ascii wide nocase
        $o2 = "Shell.Application" ascii wide nocase
        $c1 = "CreateObject" ascii wide nocase
        $c2 = "ActiveXObject" ascii wide nocase
        $r1 = ".Run" ascii wide nocase
        $r2 = "ShellExecute" ascii wide nocase
        $r3 = ".Exec" ascii wide nocase
    condition:
        filesize < 5MB and any of ($o*) and any of ($c*) and any of ($r*)
}

rule bulwark_rtf_ole_package
{
    meta:
        weight = 40
        description = "an RTF embedding an OLE Package object (a file dropped when the document is opened)"
    strings:
        $rtf = "{\\rt"
        $obj = "\\objdata" nocase
        $pkg = "5061636b61676500" nocase   /* "Package\0" in hex */
    condition:
        $rtf at 0 and $obj and $pkg
}

rule bulwark_hta_application
{
    meta:
        weight = 50
        description = "an HTML application (HTA): runs with full rights outside the browser's sandbox"
    strings:
        $h = "<hta:application" nocase
    condition:
        $h
}
