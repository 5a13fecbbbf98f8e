-- A small TAP harness for the headless Neovim render scripts: `test(name, fn)`, then `finish()`
-- prints "# N passed, M failed" and exits non-zero on any failure.
local M = { passed = 0, failed = 0 }

function M.out(line)
  io.stdout:write(line .. "\n")
end

function M.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    M.passed = M.passed + 1
    M.out("ok - " .. name)
  else
    M.failed = M.failed + 1
    M.out("not ok - " .. name)
    for line in tostring(err):gmatch("[^\n]+") do
      M.out("#   " .. line)
    end
  end
end

function M.finish()
  M.out(("# %d passed, %d failed"):format(M.passed, M.failed))
  os.exit(M.failed == 0 and 0 or 1)
end

return M
